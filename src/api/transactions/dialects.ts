// The dialects' views live in src/domain, where the workflow builds callback events from them too.
export { apiListItem, apiView, v1View } from '../../domain/transaction-dialects';
