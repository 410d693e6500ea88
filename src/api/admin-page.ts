// The operator's dashboard at /admin: one self-contained page (no CDN: a till is often
// offline), embedded in the binary. Its script is TypeScript checked against the DOM
// (dashboard/client/, `npm run typecheck`) and its stylesheet a CSS file (dashboard/style.css);
// `bun scripts/build-dashboard.ts` bundles both into dashboard/assets.generated.ts, inlined
// here, so the page is a constant string and its Content-Security-Policy hashes are computed
// once (html-page.ts): no inline event-handler attributes, no style attributes, no remote
// resources. It reads the REST API with the admin's token and refreshes the open view when
// the realtime WebSocket reports a job event. Built for a 1024×768 till screen, a phone, and
// the keyboard.
import { DASHBOARD_SCRIPT, DASHBOARD_STYLE } from "./dashboard/assets.generated.ts";

export const ADMIN_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="color-scheme" content="light dark"><title>Backroom admin</title><style>${DASHBOARD_STYLE}</style></head>
<body><header><h1>Backroom</h1><nav aria-label="Sections"><a href="#/">Overview</a><a href="#/jobs">Jobs</a><a href="#/queues">Queues</a><a href="#/schedules">Schedules</a><a href="#/webhooks">Webhooks</a></nav>
<span id="live" role="status" aria-live="polite"></span><button id="logout" type="button">Sign out</button></header>
<main id="main" tabindex="-1"></main><script type="module">${DASHBOARD_SCRIPT}</script></body></html>`;
