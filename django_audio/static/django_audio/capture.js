// Microphone capture: getUserMedia → AudioWorklet → 16-bit PCM frames.

/**
 * Captures the microphone as little-endian 16-bit mono PCM at `sampleRate`.
 * `onFrame(ArrayBuffer)` receives one frame every `frameMs` milliseconds.
 */
export class MicrophoneCapture {
  constructor({ sampleRate = 16000, frameMs = 100, onFrame = () => {}, constraints = {} } = {}) {
    this.sampleRate = sampleRate;
    this.frameSamples = Math.round((sampleRate * frameMs) / 1000);
    this.onFrame = onFrame;
    this.constraints = constraints;
    this.context = null;
    this.stream = null;
    this.node = null;
    /** Samples captured so far (at `sampleRate`). */
    this.samples = 0;
  }

  async start() {
    this.stream = await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true,
               ...this.constraints },
    });
    this.context = new AudioContext();
    await this.context.audioWorklet.addModule(new URL("./pcm-worklet.js", import.meta.url));
    const source = this.context.createMediaStreamSource(this.stream);
    this.node = new AudioWorkletNode(this.context, "django-audio-pcm16", {
      numberOfInputs: 1,
      numberOfOutputs: 1,
      processorOptions: { targetRate: this.sampleRate, frameSamples: this.frameSamples },
    });
    this.node.port.onmessage = (event) => {
      this.samples += event.data.byteLength / 2;
      this.onFrame(event.data);
    };
    // A silent path to the destination keeps the graph (and so the worklet) running.
    const mute = this.context.createGain();
    mute.gain.value = 0;
    source.connect(this.node).connect(mute).connect(this.context.destination);
    if (this.context.state === "suspended") await this.context.resume();
  }

  /** Stop capturing; the last partial frame is delivered first. */
  async stop() {
    if (this.node) {
      this.node.port.postMessage("stop");
      // Let the worklet post its final frame before the graph is torn down.
      await new Promise((resolve) => setTimeout(resolve, 50));
      this.node.disconnect();
    }
    if (this.stream) this.stream.getTracks().forEach((track) => track.stop());
    if (this.context) await this.context.close();
    this.node = this.stream = this.context = null;
  }
}
