// "backroom/redis": the Redis job queue and the Redis Streams event bus (Bun's own client).
export { RedisQueue, type RedisQueueOptions } from "../jobs/redis.ts";
export { RedisStreamsBus, type RedisSubscribeOptions } from "../events/redis.ts";
