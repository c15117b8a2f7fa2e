export * from './backend/index.js';
export * from './image/index.js';
export * from './layers/index.js';
export * from './nn/index.js';
export * from './random/index.js';
export * from './train/index.js';
export * from './weights/index.js';
