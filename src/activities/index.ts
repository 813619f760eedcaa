export { createPostingActivities, FAILURE_TYPES } from './posting-activities';
export type { PostingActivities, CheckResult, PostResult } from './posting-activities';
export { createCallbackActivities } from './callback-activities';
export type { CallbackActivities, CallbackSenderSettings } from './callback-activities';
