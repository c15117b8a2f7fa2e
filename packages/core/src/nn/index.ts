export { Module, ModuleList } from './module.js';
export type { Parameter, TorchLayout } from './module.js';
