import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Custom search attributes (registered from temporal/dev-server.yaml). */
export const appKey = defineSearchAttributeKey('MeridianApp', SearchAttributeType.KEYWORD);
export const versionKey = defineSearchAttributeKey('MeridianVersion', SearchAttributeType.KEYWORD);
export const phaseKey = defineSearchAttributeKey('MeridianPhase', SearchAttributeType.KEYWORD);
export const regionKey = defineSearchAttributeKey('MeridianRegion', SearchAttributeType.KEYWORD);
