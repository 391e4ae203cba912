// channels.scenarios.ts with `@cinder/client` (see harness.ts `clientSuite`).
import { clientSuite } from "./harness.js";
import { channelScenarios } from "./channels.scenarios.js";

clientSuite("cinder", channelScenarios);
