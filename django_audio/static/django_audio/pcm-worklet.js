// AudioWorklet processor: microphone audio in, 16-bit PCM frames out.
//
// Runs on the audio rendering thread. Mixes the input down to mono, resamples it to
// `targetRate` by linear interpolation (the position carries over between render quanta,
// so there are no clicks at block edges), converts to little-endian Int16 and posts one
// ArrayBuffer (transferred, not copied) every `frameSamples` output samples.

class PCM16Processor extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const opts = (options && options.processorOptions) || {};
    this.targetRate = opts.targetRate || 16000;
    this.frameSamples = opts.frameSamples || Math.round(this.targetRate / 10);
    this.ratio = sampleRate / this.targetRate; // input samples per output sample
    this.position = 0; // fractional read position into `this.carry` + current block
    this.carry = new Float32Array(0); // input samples not consumed yet
    this.frame = new Int16Array(this.frameSamples);
    this.filled = 0;
    this.running = true;
    this.port.onmessage = (event) => {
      if (event.data === "flush") this.flush();
      if (event.data === "stop") {
        this.flush();
        this.running = false;
      }
    };
  }

  flush() {
    if (this.filled > 0) {
      const out = this.frame.slice(0, this.filled);
      this.port.postMessage(out.buffer, [out.buffer]);
      this.filled = 0;
    }
  }

  push(sample) {
    const s = Math.max(-1, Math.min(1, sample));
    this.frame[this.filled++] = s < 0 ? s * 0x8000 : s * 0x7fff;
    if (this.filled === this.frameSamples) {
      const out = this.frame;
      this.port.postMessage(out.buffer, [out.buffer]);
      this.frame = new Int16Array(this.frameSamples);
      this.filled = 0;
    }
  }

  process(inputs) {
    const input = inputs[0];
    if (!this.running) return false;
    if (!input || input.length === 0 || input[0].length === 0) return true;
    const n = input[0].length;
    const mono = new Float32Array(this.carry.length + n);
    mono.set(this.carry, 0);
    for (let c = 0; c < input.length; c++) {
      const channel = input[c];
      for (let i = 0; i < n; i++) mono[this.carry.length + i] += channel[i] / input.length;
    }
    let pos = this.position;
    while (pos + 1 < mono.length) {
      const i = Math.floor(pos);
      const frac = pos - i;
      this.push(mono[i] * (1 - frac) + mono[i + 1] * frac);
      pos += this.ratio;
    }
    const keep = Math.floor(pos);
    this.carry = mono.slice(keep);
    this.position = pos - keep;
    return true;
  }
}

registerProcessor("django-audio-pcm16", PCM16Processor);
