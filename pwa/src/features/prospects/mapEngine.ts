// The customer map's engine, loaded with import() by the map screen only, never with the home page:
// an offline base map drawn from the app's own boundary/road data (or a bank's configured tile
// provider), the RM's customers, and scored prospects clustered and coloured by score.
// Plain TypeScript on purpose: no Vue import, so the bundler keeps Vue's runtime in the entry chunk.
import L from './leaflet'
import 'leaflet.markercluster'
import 'leaflet/dist/leaflet.css'
import 'leaflet.markercluster/dist/MarkerCluster.css'
import './map.css'
import type { GeoJson, MapPoints } from '@/api/prospects'
import { scoreColor } from './score'

export interface Near {
  lat: number
  lng: number
  km: number
}

export interface CustomerMap {
  setBaseMap(data: GeoJson | null): void
  setPoints(points: MapPoints | null): void
  setNear(near: Near | null): void
  destroy(): void
}

const BASE_STYLE: Record<string, L.PathOptions> = {
  boundary: { color: '#9aa7bd', weight: 1.5, fillColor: '#eef2f8', fillOpacity: 1 },
  ring_road: { color: '#f0b44c', weight: 3, opacity: 0.9 },
  road: { color: '#ffffff', weight: 2.5, opacity: 1 },
  river: { color: '#8ec5ff', weight: 5, opacity: 0.9 },
}

// A finger needs 44 px: the marker's box is a little more, the dot drawn in its middle stays small.
const TAP = 48

function dot(color: string, size: number, ring = '#fff'): L.DivIcon {
  return L.divIcon({
    className: 'pmap-dot',
    html: `<span style="background:${color};width:${size}px;height:${size}px;border-color:${ring}"></span>`,
    iconSize: [TAP, TAP],
  })
}

export function createMap(el: HTMLElement, options: { tileUrl: string | null; onSelect: (id: number) => void }): CustomerMap {
  // No tile layer sets the zoom range when the base map is our own: the cluster plugin needs one.
  // No zoom or fade animations: their end handlers run on timers, and a map left mid-animation threw
  // from the next page ("reading '_leaflet_pos'" of its removed panes) even after map.stop().
  const map = L.map(el, {
    preferCanvas: true,
    attributionControl: false,
    zoomSnap: 0.5,
    center: [31.23, 121.47],
    zoom: 11,
    minZoom: 4,
    maxZoom: 18,
    zoomAnimation: false,
    fadeAnimation: false,
    markerZoomAnimation: false,
  })
  if (options.tileUrl) L.tileLayer(options.tileUrl, { maxZoom: 18 }).addTo(map)
  const customers = L.layerGroup().addTo(map)
  const cluster = L.markerClusterGroup({
    showCoverageOnHover: false,
    maxClusterRadius: 50,
    iconCreateFunction: (c) => {
      const best = Math.max(...c.getAllChildMarkers().map((m) => (m.options as { score?: number }).score ?? 0))
      return L.divIcon({
        className: 'pmap-cluster',
        html: `<span style="background:${scoreColor(best)}">${c.getChildCount()}</span>`,
        iconSize: [TAP, TAP],
      })
    },
  }).addTo(map)
  let base: L.GeoJSON | null = null
  let circle: L.Circle | null = null
  let fitted = false
  let near: Near | null = null

  return {
    setBaseMap(data) {
      base?.remove()
      base = null
      if (!data) return
      base = L.geoJSON(data as GeoJSON.FeatureCollection, {
        style: (feature) => BASE_STYLE[String(feature?.properties?.kind)] ?? {},
        pointToLayer: (feature, latlng) =>
          L.marker(latlng, {
            interactive: false,
            keyboard: false, // a place name, not a control: no tab stop, no button role
            icon: L.divIcon({ className: 'pmap-label', html: String(feature.properties?.name ?? ''), iconSize: [80, 20] }),
          }),
      }).addTo(map)
      base.bringToBack()
    },
    setPoints(points) {
      cluster.clearLayers()
      customers.clearLayers()
      if (!points) return
      for (const c of points.customers) {
        // the RM's own customers are context, not controls
        L.marker([c.lat, c.lng], { icon: dot('#1f4e9c', 10), interactive: false, keyboard: false }).addTo(customers)
      }
      const markers = points.prospects
        .filter((x) => x.lat !== null && x.lng !== null)
        .map((x) => {
          const marker = L.marker([x.lat, x.lng], {
            icon: dot(scoreColor(x.score), x.mine ? 16 : 13, x.mine ? '#1f4e9c' : '#fff'),
            title: x.name,
            alt: x.name,
          })
          ;(marker.options as { score?: number }).score = x.score ?? 0
          marker.on('click', () => options.onSelect(x.id))
          return marker
        })
      cluster.addLayers(markers)
      if (!fitted && !near) {
        // Start where the RM works: their customers, else the best prospects.
        const all = (
          points.customers.length
            ? points.customers.map((c) => [c.lat, c.lng])
            : markers.slice(0, 100).map((m) => [m.getLatLng().lat, m.getLatLng().lng])
        ) as [number, number][]
        if (all.length) {
          map.fitBounds(L.latLngBounds(all).pad(0.1), { maxZoom: 13 })
          fitted = true
        }
      }
    },
    setNear(value) {
      near = value
      circle?.remove()
      circle = null
      if (value) {
        circle = L.circle([value.lat, value.lng], { radius: value.km * 1000, color: '#1f4e9c', weight: 1, fillOpacity: 0.05 }).addTo(map)
        map.fitBounds(circle.getBounds(), { maxZoom: 14 })
      }
    },
    destroy() {
      // stop a running zoom or pan first: its end handler would read the removed panes
      map.stop()
      cluster.clearLayers()
      map.off()
      map.remove()
    },
  }
}
