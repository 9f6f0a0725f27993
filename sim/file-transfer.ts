import type { FileTransfer } from './maintenance';

/**
 * Real file transfers for the simulated charger, as chargers do them over HTTP: a firmware is
 * downloaded with GET; diagnostics (1.6 GetDiagnostics, whose location is a directory) are PUT to
 * `<location><file name>`, and a log (GetLog) is POSTed as multipart/form-data to its
 * `remoteLocation`, the two ways chargers upload. A status other than 2xx rejects.
 */
export function httpFileTransfer(): FileTransfer {
  return {
    async download(url) {
      const response = await fetch(url);
      if (!response.ok) throw new Error(`GET ${url}: ${response.status}`);
      return Buffer.from(await response.arrayBuffer());
    },
    async upload(url, fileName, content, kind) {
      const response =
        kind === 'diagnostics'
          ? await fetch(`${url.endsWith('/') ? url : `${url}/`}${encodeURIComponent(fileName)}`, {
              method: 'PUT',
              body: new Uint8Array(content),
            })
          : await fetch(url, { method: 'POST', body: form(fileName, content) });
      await response.arrayBuffer();
      if (!response.ok) throw new Error(`upload to ${url}: ${response.status}`);
    },
  };
}

function form(fileName: string, content: Buffer): FormData {
  const data = new FormData();
  data.append('file', new Blob([new Uint8Array(content)]), fileName);
  return data;
}
