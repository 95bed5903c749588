// Live captions: rendering (partial vs final), the speaker's session, a viewer.

import { MicrophoneCapture } from "./capture.js";
import { ReconnectingSocket } from "./socket.js";

const CAPTIONS_PATH = "/ws/audio/captions/";

/**
 * Renders caption events into `element`: one `<p class="final">` per finished utterance
 * and a `<p class="partial">` for the utterance being recognised.
 */
export class CaptionView {
  constructor(element) {
    this.element = element;
    this.finals = new Map(); // item_id -> {text, start, end}
    this.partial = new Map(); // item_id -> text so far
    this.lastSeq = 0;
  }

  /** Apply one server event; returns false for a duplicate (already applied). */
  apply(event) {
    if (event.seq !== undefined) {
      if (event.type !== "session.state" && event.seq <= this.lastSeq) return false;
      this.lastSeq = Math.max(this.lastSeq, event.seq);
    }
    switch (event.type) {
      case "session.state":
        this.finals = new Map(event.segments.map((s) => [s.id, s]));
        for (const id of this.finals.keys()) this.partial.delete(id);
        break;
      case "transcript.text.delta":
        this.partial.set(event.item_id, (this.partial.get(event.item_id) || "") + event.delta);
        break;
      case "transcript.text.done":
        this.partial.delete(event.item_id);
        if (event.text) this.finals.set(event.item_id, event);
        break;
      default:
        return true;
    }
    this.render();
    return true;
  }

  /** The finished text so far. */
  get text() {
    return [...this.finals.values()].map((s) => s.text.trim()).filter(Boolean).join(" ");
  }

  render() {
    const doc = this.element.ownerDocument;
    const lines = [];
    for (const [id, seg] of this.finals) {
      const p = doc.createElement("p");
      p.className = "final";
      p.dataset.itemId = id;
      p.dataset.start = seg.start;
      p.textContent = seg.text;
      lines.push(p);
    }
    for (const [id, text] of this.partial) {
      const p = doc.createElement("p");
      p.className = "partial";
      p.dataset.itemId = id;
      p.textContent = text;
      lines.push(p);
    }
    this.element.replaceChildren(...lines);
    this.element.scrollTop = this.element.scrollHeight;
  }
}

/**
 * The speaker: captures the microphone and streams it to a new caption session.
 *
 * Options: `view` (a CaptionView), `sampleRate`, `model`, `language`, `prompt`,
 * `tokenUrl`/`apiKey` (token auth), `onEvent(event)`. If the connection drops, a new
 * session starts after back-off (the interrupted one is saved as `incomplete`).
 */
export class LiveCaptions {
  constructor(options = {}) {
    this.options = { sampleRate: 16000, path: CAPTIONS_PATH, onEvent: () => {}, ...options };
    this.view = options.view || null;
    this.session = null;
    this.socket = null;
    this.capture = null;
    /** Bytes of audio sent so far. */
    this.bytesSent = 0;
  }

  async start() {
    const o = this.options;
    this.socket = new ReconnectingSocket(o.path, { tokenUrl: o.tokenUrl, apiKey: o.apiKey });
    this.socket.onopen = () => {
      const start = { type: "start", sample_rate: o.sampleRate };
      for (const key of ["model", "language", "prompt"]) if (o[key]) start[key] = o[key];
      this.socket.send(JSON.stringify(start));
    };
    this.socket.onevent = (event) => {
      if (event.type === "session.created") this.session = event.session;
      if (this.view) this.view.apply(event);
      o.onEvent(event);
    };
    this.socket.onclose = (code, retry) => {
      if (!retry && this.capture) this.capture.stop();
      o.onEvent({ type: "socket.closed", code, retry });
    };
    this.capture = new MicrophoneCapture({
      sampleRate: o.sampleRate,
      onFrame: (frame) => {
        if (this.socket.send(frame)) this.bytesSent += frame.byteLength;
      },
    });
    await this.capture.start();
    await this.socket.connect();
  }

  /** Stop the microphone and ask the server to finish and save the session. */
  async stop() {
    if (this.capture) await this.capture.stop();
    this.capture = null;
    if (this.socket) {
      this.socket.stopped = true; // the server closes after `session.ended`
      this.socket.send(JSON.stringify({ type: "stop" }));
    }
  }
}

/** A read-only viewer of session `sessionId`, reconnecting (and resyncing) as needed. */
export class CaptionViewer {
  constructor(sessionId, options = {}) {
    this.options = { path: CAPTIONS_PATH, onEvent: () => {}, ...options };
    this.view = options.view || null;
    this.sessionId = sessionId;
    this.socket = null;
  }

  async connect() {
    const o = this.options;
    this.socket = new ReconnectingSocket(`${o.path}${encodeURIComponent(this.sessionId)}/`,
      { tokenUrl: o.tokenUrl, apiKey: o.apiKey });
    this.socket.onevent = (event) => {
      if (this.view) this.view.apply(event);
      if (event.type === "session.ended") this.socket.stopped = true;
      o.onEvent(event);
    };
    this.socket.onclose = (code, retry) => o.onEvent({ type: "socket.closed", code, retry });
    await this.socket.connect();
  }

  close() {
    if (this.socket) this.socket.close();
  }
}
