// "backroom/kafka": the Kafka event bus (tested against librdkafka's mock cluster, not Apache Kafka); loads `kafkajs`.
export { KafkaBus, type KafkaBusOptions } from "../events/kafka.ts";
