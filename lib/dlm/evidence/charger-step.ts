import type { ConnectorState } from '../../contracts';
import type { Connector } from '../site/model';

/**
 * The step a connector is allocated in, where coarser than the site's `control.stepA`: the site's
 * own `stepA` for the connector (the integrator's word wins), else the step its charger's model
 * takes as the charging-profile manager says it (`ConnectorState.limitStep`: Schneider EVlink's
 * maxIntensitySocket, whole amperes). Undefined: the site's step. Only ever rounds a limit down.
 */
export function chargerStepA(connector: Connector, state: ConnectorState | undefined): number | undefined {
  return connector.stepA ?? state?.limitStep?.stepA;
}
