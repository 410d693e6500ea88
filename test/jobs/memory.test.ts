import { MemoryQueue } from "../../src/jobs/memory.ts";
import { queueConformance } from "./conformance.ts";
import { workerConformance } from "./worker-conformance.ts";

queueConformance("memory", (clock) => ({ queue: new MemoryQueue({ clock }), close() {} }), { transactionalEnqueue: false, durable: false });
workerConformance("memory", (clock) => ({ queue: new MemoryQueue({ clock }), close() {} }));
