// "backroom/rabbitmq": the RabbitMQ event bus (durable queues for durable subscriptions); loads `amqplib`.
export { RabbitMqBus, type RabbitSubscribeOptions } from "../events/rabbitmq.ts";
