import { packageTestConfig } from '../../vitest.shared.js';

// No shared setup: the test imports the cpu and wasm backends itself and switches with selectBackend.
export default packageTestConfig({ tfjs: false });
