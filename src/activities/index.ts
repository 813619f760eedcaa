export { createPostingActivities, FAILURE_TYPES } from './posting-activities';
export type { PostingActivities, CheckResult, PostResult } from './posting-activities';
