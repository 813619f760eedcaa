// Old path, kept for src/mock (moving to tools/ in parallel): import from './http/raw-numbers'.
export * from './http/raw-numbers';
