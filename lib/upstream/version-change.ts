import type { Charger, ProxyVoice } from './charger';

/**
 * A charger came back speaking another OCPP version (a firmware update moved it from 1.6 to
 * 2.0.1, or back): its link now speaks the new one, and what waited for the backend is in the old
 * version's names and shapes (StartTransaction, a 1.6 MeterValues), which the backend cannot take
 * on the new link and ampflow does not convert (1.6 transactions have no 2.0.1 transaction id nor
 * sequence numbers). They are flushed: taken out of the queue and its durable record, logged with
 * how many of each action, and told to the flows (ampflow-ocpp-in's Upstream event `flushed`, with
 * the requests as they were) so that an operator can hand them over another way. Nothing of the
 * central system's own records (sessions, CDRs) is lost.
 */
export async function versionChanged(charger: Charger, before: string, voice: ProxyVoice): Promise<void> {
  if (charger.queue.length === 0) return;
  const flushed = await charger.queue.flush();
  if (flushed.length === 0) return;
  const counts = new Map<string, number>();
  for (const { action } of flushed) counts.set(action, (counts.get(action) ?? 0) + 1);
  const what = [...counts].map(([action, count]) => `${count} ${action}`).join(', ');
  const reason = `it now speaks ${charger.link.protocol}, not ${before}: ${flushed.length} request(s) in ${before} words that waited for the backend were flushed (${what})`;
  voice.report({
    chargePointId: charger.identity,
    kind: 'flushed',
    reason,
    queued: 0,
    requests: flushed.map(({ action, request }) => ({ action, request })),
  });
  voice.tell(charger.identity, reason);
}
