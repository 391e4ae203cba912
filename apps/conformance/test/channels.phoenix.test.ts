// channels.scenarios.ts with the official `phoenix` client (see harness.ts `clientSuite`).
import { clientSuite } from "./harness.js";
import { channelScenarios } from "./channels.scenarios.js";

clientSuite("phoenix", channelScenarios);
