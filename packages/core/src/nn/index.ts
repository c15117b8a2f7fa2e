export type { Parameter, TorchLayout } from './module.js';
export { Module, ModuleList } from './module.js';
