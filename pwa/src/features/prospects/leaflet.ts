// Leaflet as the global `L` the cluster plugin extends: import this module before
// 'leaflet.markercluster' (modules evaluate in import order).
import L from 'leaflet'

;(globalThis as unknown as { L: typeof L }).L = L
export default L
