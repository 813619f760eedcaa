// Old path, kept for src/mock and src/bench (moving to tools/ in parallel): import from './transactions/submission'.
export * from './transactions/submission';
