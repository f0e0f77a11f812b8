export * from "./instances";
export * from "./prices";
export * from "./images";
export * from "./modelFit";
export * from "./cost";
export * from "./kubernetes";
export * from "./schedule";
export * from "./addonScheduling";
