// Old path, kept for src/bench (moving to tools/ in parallel): import from './transactions/transactions-service'.
export * from './transactions/transactions-service';
