// Streamed speech playback: PCM through Web Audio as it arrives; other formats decoded.

import { ReconnectingSocket } from "./socket.js";

const SPEECH_PATH = "/ws/audio/speech/";

/**
 * Plays 16-bit little-endian mono PCM chunks gap-free as they arrive, by scheduling one
 * AudioBufferSourceNode per chunk right after the previous one.
 */
export class PCMPlayer {
  constructor(context, sampleRate = 24000) {
    this.context = context;
    this.sampleRate = sampleRate;
    this.nextTime = 0;
    this.leftover = null; // an odd trailing byte split across chunks
    this.samples = 0;
  }

  push(buffer) {
    let bytes = new Uint8Array(buffer);
    if (this.leftover !== null) {
      const joined = new Uint8Array(bytes.length + 1);
      joined[0] = this.leftover;
      joined.set(bytes, 1);
      bytes = joined;
      this.leftover = null;
    }
    if (bytes.length % 2) {
      this.leftover = bytes[bytes.length - 1];
      bytes = bytes.subarray(0, bytes.length - 1);
    }
    const count = bytes.length / 2;
    if (count === 0) return 0;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    const audio = this.context.createBuffer(1, count, this.sampleRate);
    const channel = audio.getChannelData(0);
    for (let i = 0; i < count; i++) channel[i] = view.getInt16(2 * i, true) / 32768;
    const source = this.context.createBufferSource();
    source.buffer = audio;
    source.connect(this.context.destination);
    // A little lead time absorbs network jitter without an audible gap.
    this.nextTime = Math.max(this.nextTime, this.context.currentTime + 0.05);
    source.start(this.nextTime);
    this.nextTime += audio.duration;
    this.samples += count;
    return count;
  }
}

/**
 * Speaks text over the speech websocket and plays it as it streams.
 *
 * `pcm` plays chunk by chunk as it arrives; mp3, opus, aac, flac and wav are collected
 * and decoded with `decodeAudioData` when the last chunk is in. `samplesDecoded` counts
 * every sample handed to Web Audio; `onEvent(event)` sees the server's events.
 */
export class SpeechPlayer {
  constructor(options = {}) {
    this.options = { path: SPEECH_PATH, onEvent: () => {}, ...options };
    this.context = null;
    this.socket = null;
    this.samplesDecoded = 0;
    this.current = null;
    this.pending = [];
  }

  async connect() {
    const o = this.options;
    this.context = this.context || new AudioContext();
    this.socket = new ReconnectingSocket(o.path, { tokenUrl: o.tokenUrl, apiKey: o.apiKey });
    const opened = new Promise((resolve) => { this.socket.onopen = resolve; });
    this.socket.onevent = (event) => this.handle(event);
    this.socket.onbinary = (chunk) => this.chunk(chunk);
    this.socket.onclose = (code, retry) => o.onEvent({ type: "socket.closed", code, retry });
    await this.socket.connect();
    await opened;
  }

  /** Send a `speech.create`; `request` holds input, voice, model, response_format, speed. */
  async speak(request) {
    if (!this.socket || !this.socket.open) await this.connect();
    if (this.context.state === "suspended") await this.context.resume();
    this.socket.send(JSON.stringify({ type: "speech.create", response_format: "pcm",
                                      ...request }));
  }

  cancel() {
    this.socket.send(JSON.stringify({ type: "speech.cancel" }));
  }

  handle(event) {
    if (event.type === "speech.started") {
      this.current = event;
      this.pending = [];
      if (event.response_format === "pcm") {
        this.pcm = new PCMPlayer(this.context, event.sample_rate || 24000);
      }
    } else if (event.type === "speech.audio.done" && this.current) {
      if (this.current.response_format !== "pcm") this.decode(this.pending);
      this.current = null;
    }
    this.options.onEvent(event);
  }

  chunk(buffer) {
    if (!this.current) return;
    if (this.current.response_format === "pcm") {
      this.samplesDecoded += this.pcm.push(buffer);
      this.options.onEvent({ type: "samples", samples: this.samplesDecoded });
    } else {
      this.pending.push(new Uint8Array(buffer));
    }
  }

  async decode(chunks) {
    const size = chunks.reduce((n, c) => n + c.length, 0);
    const whole = new Uint8Array(size);
    let offset = 0;
    for (const c of chunks) {
      whole.set(c, offset);
      offset += c.length;
    }
    try {
      const audio = await this.context.decodeAudioData(whole.buffer);
      const source = this.context.createBufferSource();
      source.buffer = audio;
      source.connect(this.context.destination);
      source.start();
      this.samplesDecoded += audio.length;
      this.options.onEvent({ type: "samples", samples: this.samplesDecoded });
    } catch (error) {
      this.options.onEvent({ type: "error", error: { message: `Cannot decode: ${error}` } });
    }
  }
}
