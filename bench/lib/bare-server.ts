// The baseline of bench/http.ts and bench/binary.ts: bare Elysia on bun:sqlite (bare-app.ts),
// compiled the same way as the app's binary and run in the same run, so a ratio says what
// Backroom's layers cost over the least a route can do.
//   bare-server <port>             GET /const and GET /readyz only (a constant)
//   bare-server <port> <db file>   also GET /job/:id and GET /books?limit= (bare-app.ts)
import { bareApp } from "./bare-app.ts";

bareApp(process.argv[3]).listen({ hostname: "127.0.0.1", port: Number(process.argv[2]), reusePort: false });
// Stopped as the app is (SIGTERM, exit 0), so a recorded start writes its profile (http-load.ts).
process.on("SIGTERM", () => process.exit(0));
