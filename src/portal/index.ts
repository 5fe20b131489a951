/**
 * The resident portal's public entry: the module, and what other modules or tests may call.
 */
export { portalModule, smsGatewayUrl } from './module.js';
export {
  dispatchOutbox,
  dispatchSms,
  HttpSmsTransport,
  LogTransport,
  retryDelaySeconds,
  type DueSms,
  type SmsFailure,
  type SmsMessage,
  type SmsQueue,
  type SmsTransport,
} from './outbox.js';
export { runReminders } from './reminders.js';
