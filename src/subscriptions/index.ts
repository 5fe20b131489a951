/** FHIR Subscription (REST-hook) delivery: what other modules and the composition root use. */
export { subscriptionsModule } from './module.js';
export { parseCriteria, parseChannel, notificationRequest } from './criteria.js';
