/**
 * Downloads a file the server makes (CSV, Excel): sent with the session's bearer token as
 * api/http.ts does (a plain link could not carry it), saved under the server's file name
 * (RFC 5987 filename* first, so Chinese names survive); a 401 ends the session.
 */
import { ApiError } from './http.js';
import { getSession, setSession } from './session.js';

/** Saves a Blob under a file name through a temporary link (the browser's download). */
export function saveBlob(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.style.display = 'none';
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The file name of a Content-Disposition header, or undefined. */
export function dispositionFileName(header: string | null): string | undefined {
  const star = /filename\*=UTF-8''([^;]+)/i.exec(header ?? '')?.[1];
  if (star) {
    try {
      return decodeURIComponent(star);
    } catch {
      // a malformed escape: fall back to the plain name
    }
  }
  return /filename="?([^";]+)"?/.exec(header ?? '')?.[1];
}

/** GETs `path` and saves the answer as a file; answers the file name used. */
export async function downloadFile(
  path: string,
  fallbackName: string,
  accept = '*/*',
  options: { method?: string; purpose?: string } = {},
): Promise<string> {
  const headers: Record<string, string> = { Accept: accept };
  const session = getSession();
  if (session) headers.Authorization = `Bearer ${session.token}`;
  if (options.purpose) headers['X-Purpose-Of-Use'] = options.purpose;
  const response = await fetch(path, { headers, method: options.method ?? 'GET' });
  if (!response.ok) {
    if (response.status === 401) setSession(null);
    const text = await response.text().catch(() => '');
    let message = `HTTP ${response.status}`;
    try {
      const body = JSON.parse(text) as { message?: string; issue?: { diagnostics?: string }[] };
      message = body.issue?.[0]?.diagnostics ?? body.message ?? message;
    } catch {
      // not JSON: keep the status
    }
    throw new ApiError(response.status, message);
  }
  const fileName = dispositionFileName(response.headers.get('content-disposition')) ?? fallbackName;
  saveBlob(await response.blob(), fileName);
  return fileName;
}
