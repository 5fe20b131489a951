/**
 * The vaccine-supply capability's public entry: the module, the cold-chain intake and clock scan
 * (for the bench), the MQTT subscriber and the pure parts (GS1 codes, the excursion detector).
 */
export { default as vaccineSupplyModule, mqttUrl } from './module.js';
export { excursionDetail, ingestReadings, recall, scanColdChain, type IncomingReading, type SupplyDeps } from './service.js';
export { ColdChainSubscriber, parsePayload, topicFilter, type SubscriberStats } from './mqtt.js';
export { loadSettings, parseSettings, SETTINGS_FILE, type MqttSettings, type SupplySettings } from './settings.js';
export { parseGs1, gs1CheckDigit, type Gs1Code, type Gs1Result } from './gs1.js';
export { DEFAULT_RULES, feed, step, type ColdChainRules, type SensorState } from './excursion.js';
export { LOT_SYSTEM } from './fhir.js';
export type { AlarmList, ExcursionDetail, IngestAnswer, LotTrace, RecipientList, StockList, WarningList } from './schemas.js';
