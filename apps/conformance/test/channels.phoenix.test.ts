// channels.scenarios.ts with the official `phoenix` client (see harness/clients.ts `clientSuite`).
import { clientSuite } from "./harness/index.js";
import { channelScenarios } from "./channels.scenarios.js";

clientSuite("phoenix", channelScenarios);
