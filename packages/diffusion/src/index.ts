export { addNoise } from './add-noise.js';
export { applyGuidance } from './apply-guidance.js';
export type { BetaScheduleConfig, BetaScheduleKind, ResolvedBetaScheduleConfig } from './beta-schedule.js';
export { BETA_SCHEDULES, makeBetas } from './beta-schedule.js';
export type { DDIMSchedulerConfig, DDIMStepOptions } from './ddim-scheduler.js';
export { DDIMScheduler } from './ddim-scheduler.js';
export type { DDPMSchedulerConfig, DDPMVarianceType } from './ddpm-scheduler.js';
export { DDPM_VARIANCE_TYPES, DDPMScheduler } from './ddpm-scheduler.js';
export type { DynamicThresholdOptions } from './dynamic-threshold.js';
export { dynamicThreshold } from './dynamic-threshold.js';
export type { Timesteps } from './extract.js';
export { extract } from './extract.js';
export type { TimestepSpacing } from './inference-timesteps.js';
export { inferenceTimesteps, TIMESTEP_SPACINGS } from './inference-timesteps.js';
export type { DiffusionLossOptions, LossType } from './loss.js';
export { diffusionLoss, LOSS_TYPES } from './loss.js';
export type {
  NoiseScheduleConfig,
  ResolvedNoiseScheduleConfig,
  SchedulePrecision,
} from './noise-schedule.js';
export { NoiseSchedule, SCHEDULE_PRECISIONS } from './noise-schedule.js';
export type { P2LossWeightOptions } from './p2-loss-weight.js';
export { p2LossWeight } from './p2-loss-weight.js';
export type { DenoiseFn, SampleOptions, SampleProgress } from './sample.js';
export { sample } from './sample.js';
export type { Scheduler, SchedulerOutput, StepOptions } from './scheduler.js';
export type { PredictionConfig } from './scheduler-step.js';
export type { PredictionType } from './training-target.js';
export { getTarget, getVelocity, PREDICTION_TYPES, predictOriginalSample } from './training-target.js';
export type { UnCLIPSchedulerConfig, UnCLIPStepOptions, UnCLIPVarianceType } from './unclip-scheduler.js';
export { UNCLIP_VARIANCE_TYPES, UnCLIPScheduler } from './unclip-scheduler.js';
