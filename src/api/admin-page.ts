// The operator's dashboard at /admin: one self-contained page (no CDN: a till is often
// offline), embedded in the binary. Its script is TypeScript checked against the DOM
// (src/api/dashboard/client/, `npm run typecheck`) and its stylesheet a CSS file; both are
// inlined here at build time by macros (dashboard/bundle.ts), so the page is still a constant
// string and its Content-Security-Policy hashes are computed once (html-page.ts): no inline
// event-handler attributes, no style attributes, no remote resources.
// It reads the REST API with the admin's token and refreshes the open view when the realtime
// WebSocket reports a job event. Built for a 1024×768 till screen, a phone, and the keyboard.
import { clientScript, fileText } from "./dashboard/bundle.ts" with { type: "macro" };

const STYLE = fileText("./style.css");
const SCRIPT = clientScript();

export const ADMIN_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="color-scheme" content="light dark"><title>Backroom admin</title><style>${STYLE}</style></head>
<body><header><h1>Backroom</h1><nav aria-label="Sections"><a href="#/">Overview</a><a href="#/jobs">Jobs</a><a href="#/queues">Queues</a><a href="#/schedules">Schedules</a><a href="#/webhooks">Webhooks</a></nav>
<span id="live" role="status" aria-live="polite"></span><button id="logout" type="button">Sign out</button></header>
<main id="main" tabindex="-1"></main><script type="module">${SCRIPT}</script></body></html>`;
