// `serve --print-config` must never print a credential: every form a URL can carry one in.
import { expect, test } from "bun:test";
import { maskSecrets } from "../../src/cli/config.ts";

test("print-config masks a password holding an @, a token given as user name and a ?password= parameter", () => {
  const r = Bun.spawnSync([process.execPath, "src/main.ts", "serve", "--print-config"], {
    stdout: "pipe",
    stderr: "pipe",
    env: {
      ...process.env,
      SMTP_URL: "smtp://till:p@ss@mail.local:587",
      BACKROOM_BUS: "nats://s3cr3tT0ken@broker.local:4222",
      BACKROOM_QUEUE: "postgres://head@central.local/shop?sslmode=require&password=hunter2",
      BACKROOM_REPORT_TO: "owner@shop.example",
    },
  });
  expect(r.exitCode).toBe(0);
  const out = r.stdout.toString();
  for (const secret of ["p@ss", "ss@mail", "s3cr3tT0ken", "hunter2"]) expect(out).not.toContain(secret);
  expect(JSON.parse(out)).toMatchObject({
    smtp: "smtp://till:***@mail.local:587",
    bus: "nats://***@broker.local:4222",
    queue: "postgres://***@central.local/shop?sslmode=require&password=***",
    "report-to": "owner@shop.example",
  });
});

test("maskSecrets: passwords, user-name tokens, secret query parameters; unparsable URLs whole; plain values untouched", () => {
  expect(maskSecrets("redis://:pw@cache:6379")).toBe("redis://:***@cache:6379");
  expect(maskSecrets("amqp://guest:guest@127.0.0.1:5672/%2f")).toBe("amqp://guest:***@127.0.0.1:5672/%2f");
  expect(maskSecrets("postgres://app@db/x?token=a&api_key=b&secret=c&auth=d&application_name=till")).toBe("postgres://***@db/x?token=***&api_key=***&secret=***&auth=***&application_name=till");
  expect(maskSecrets("https://hooks.example/x?sig=abc#access_token=def")).toBe("https://hooks.example/x?sig=***#access_token=***");
  expect(maskSecrets("postgres://u:secret@[::1")).toBe("***");
  expect(maskSecrets("nats://broker:4222")).toBe("nats://broker:4222");
  expect(maskSecrets("./backroom.db")).toBe("./backroom.db");
  expect(maskSecrets("Backroom Books <till@backroom.local>")).toBe("Backroom Books <till@backroom.local>");
});
