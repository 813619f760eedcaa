export const benchActivities = {
  async first(): Promise<void> {},
  async second(): Promise<void> {},
};

export type BenchActivities = typeof benchActivities;
