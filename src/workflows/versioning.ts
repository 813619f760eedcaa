import { workflowInfo } from '@temporalio/workflow';
import type { VersioningBehavior, WorkflowDefinitionOptions } from '@temporalio/common';

/**
 * A workflow type's versioning behaviour (decision 0022), for setWorkflowOptions. Declared only on a versioned
 * worker (WORKER_BUILD_ID): Temporal refuses a workflow task that names a behaviour from an unversioned worker,
 * which must keep working as before for everyone who does not opt in.
 */
export function versioningBehavior(behavior: VersioningBehavior): () => WorkflowDefinitionOptions {
  // An unversioned worker has a build ID of its own too, but no deployment name.
  return () =>
    workflowInfo().currentDeploymentVersion?.deploymentName ? { versioningBehavior: behavior } : {};
}
