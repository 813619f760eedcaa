export { processTransaction } from './process-transaction';
export { statusQuery } from './queries';
