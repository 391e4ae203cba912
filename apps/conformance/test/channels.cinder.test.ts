// channels.scenarios.ts with `@cinder/client` (see harness/clients.ts `clientSuite`).
import { clientSuite } from "./harness/index.js";
import { channelScenarios } from "./channels.scenarios.js";

clientSuite("cinder", channelScenarios);
