// django-audio's browser client: dependency-free ES modules, no build step.
//
//   import { LiveCaptions, CaptionView } from "/static/django_audio/index.js";
//
// See docs/javascript.md.

export { MicrophoneCapture } from "./capture.js";
export { CaptionView, CaptionViewer, LiveCaptions } from "./captions.js";
export { PCMPlayer, SpeechPlayer } from "./playback.js";
export { FINAL_CLOSE_CODES, ReconnectingSocket, fetchToken, websocketUrl } from "./socket.js";
