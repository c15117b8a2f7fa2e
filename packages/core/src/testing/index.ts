export type { GradientCheckOptions } from './check-gradients.js';
export { checkGradients } from './check-gradients.js';
export type { ModuleGradientCheckOptions } from './check-module-gradients.js';
export { checkModuleGradients } from './check-module-gradients.js';
export { countNewTensors, expectNoLeaks } from './expect-no-leaks.js';
