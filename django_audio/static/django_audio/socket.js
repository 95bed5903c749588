// A websocket that reconnects with exponential back-off, and fetches auth tokens.

/** Close codes after which reconnecting cannot help (see docs/websockets.md). */
export const FINAL_CLOSE_CODES = new Set([1000, 4400, 4401, 4403, 4404, 4408, 4413, 4415, 4429]);

/** The ws:// or wss:// URL of `path` on this page's host. */
export function websocketUrl(path) {
  if (/^wss?:\/\//.test(path)) return path;
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${window.location.host}${path}`;
}

/**
 * Ask the token endpoint for a short-lived websocket token.
 * `apiKey` is sent as a Bearer header; without it the session cookie is used.
 */
export async function fetchToken(tokenUrl, apiKey) {
  const headers = apiKey ? { Authorization: `Bearer ${apiKey}` } : {};
  const response = await fetch(tokenUrl, { method: "POST", headers, credentials: "same-origin" });
  const body = await response.json();
  if (!response.ok) throw new Error(body.error ? body.error.message : `HTTP ${response.status}`);
  return body.token;
}

/**
 * A websocket that reconnects after unexpected closes.
 *
 * Options: `tokenUrl`/`apiKey` (fetch a fresh token before every connection),
 * `minDelay`/`maxDelay` in ms, `maxRetries`. Handlers: `onopen(isReconnect)`,
 * `onevent(json)`, `onbinary(ArrayBuffer)`, `onclose(code, willRetry)`.
 */
export class ReconnectingSocket {
  constructor(path, options = {}) {
    this.path = path;
    this.options = { minDelay: 500, maxDelay: 15000, maxRetries: Infinity, ...options };
    this.attempt = 0;
    this.socket = null;
    this.stopped = false;
    this.onopen = () => {};
    this.onevent = () => {};
    this.onbinary = () => {};
    this.onclose = () => {};
  }

  async connect() {
    this.stopped = false;
    let url = websocketUrl(this.path);
    if (this.options.tokenUrl) {
      const token = await fetchToken(this.options.tokenUrl, this.options.apiKey);
      url += (url.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(token);
    }
    const socket = new WebSocket(url);
    socket.binaryType = "arraybuffer";
    this.socket = socket;
    socket.onopen = () => {
      const reconnect = this.attempt > 0;
      this.attempt = 0;
      this.onopen(reconnect);
    };
    socket.onmessage = (message) => {
      if (typeof message.data === "string") this.onevent(JSON.parse(message.data));
      else this.onbinary(message.data);
    };
    socket.onclose = (event) => {
      const retry = !this.stopped && !FINAL_CLOSE_CODES.has(event.code)
        && this.attempt < this.options.maxRetries;
      this.onclose(event.code, retry);
      if (retry) {
        const base = Math.min(this.options.maxDelay, this.options.minDelay * 2 ** this.attempt);
        this.attempt += 1;
        // Jitter spreads reconnects of many clients after a server restart.
        setTimeout(() => this.connect().catch(() => this.onclose(0, false)),
          base / 2 + Math.random() * base / 2);
      }
    };
    return socket;
  }

  get open() {
    return this.socket !== null && this.socket.readyState === WebSocket.OPEN;
  }

  send(data) {
    if (!this.open) return false;
    this.socket.send(typeof data === "string" || data instanceof ArrayBuffer
      || ArrayBuffer.isView(data) ? data : JSON.stringify(data));
    return true;
  }

  /** Backpressure hint: bytes queued in the browser and not yet sent. */
  get buffered() {
    return this.socket ? this.socket.bufferedAmount : 0;
  }

  close(code = 1000) {
    this.stopped = true;
    if (this.socket) this.socket.close(code);
  }
}
