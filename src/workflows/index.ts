export { processTransaction } from './process-transaction';
export { statusQuery } from './queries';
export { cancelUpdate, CANCEL_REFUSED } from './updates';
export { deliverEvent } from './deliver-event';
