export * from './emoji/index.js';
export * from './folder/index.js';
export * from './shapes/index.js';
