/**
 * Onboarding a district from files (issue #16, figures: 300 organizations, 250 areas with
 * boundaries and 1,000 places imported in < 30 s; the alert map's boundary payload < 500 KB for
 * 250 areas). Generates the files (areas as GeoJSON: a district, 24 streets and 225 communities,
 * each a polygon of about 300 vertices whose borders with its neighbours are the same noisy
 * polylines, as real boundaries are; organizations and places as CSV, the places file in
 * GB18030), posts them to /api/registry/import of a running server per store, and reads the
 * alert map's area API (/api/surveillance/geography) for streets and communities.
 *
 *   node --import tsx bench/registry.bench.ts [--vertices 300]
 */
import iconv from 'iconv-lite';
import { prepareTemplates, startTestServer, storeKinds, useProductCache } from '../src/app/test-stores.js';
import { printTable } from './table.js';

// PGlite stores with the product's cache, as a district's server has (src/platform/db.ts).
useProductCache();

function arg(argv: string[], name: string, fallback: string): string {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : fallback;
}

const DISTRICT = '339902';
const X0 = 120.3;
const Y0 = 29.1;
const W = 0.6;
const H = 0.5;

/**
 * A border between two grid corners as a polyline of n segments, displaced sideways by a smooth
 * noise that is zero at both ends. Keyed by its endpoints, so both neighbours get the same one.
 */
function border(a: [number, number], b: [number, number], n: number): [number, number][] {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const len = Math.hypot(dx, dy);
  const nx = -dy / len;
  const ny = dx / len;
  const seed = Math.sin(a[0] * 12.9898 + a[1] * 78.233 + b[0] * 37.719 + b[1] * 11.131) * 43758.5453;
  const phase = seed - Math.floor(seed);
  const out: [number, number][] = [];
  for (let i = 0; i <= n; i++) {
    const t = i / n;
    const off =
      len *
      0.06 *
      Math.sin(Math.PI * t) *
      (Math.sin(2 * Math.PI * (3 * t + phase)) * 0.7 + Math.sin(2 * Math.PI * (11 * t + phase * 3)) * 0.3);
    out.push([a[0] + dx * t + nx * off, a[1] + dy * t + ny * off]);
  }
  return out;
}

/** Border from p to q, whichever direction it was generated in. */
function edge(p: [number, number], q: [number, number], n: number): [number, number][] {
  const forward = p[0] < q[0] || (p[0] === q[0] && p[1] < q[1]);
  return forward ? border(p, q, n) : border(q, p, n).reverse();
}

function cell(x0: number, y0: number, w: number, h: number, perEdge: number): number[][] {
  const c: [number, number][] = [
    [x0, y0],
    [x0 + w, y0],
    [x0 + w, y0 + h],
    [x0, y0 + h],
  ].map(([x, y]) => [Number(x!.toFixed(9)), Number(y!.toFixed(9))] as [number, number]);
  const ring: number[][] = [];
  for (let i = 0; i < 4; i++) ring.push(...edge(c[i]!, c[(i + 1) % 4]!, perEdge).slice(0, -1));
  ring.push(ring[0]!);
  return ring;
}

export function districtFiles(vertices = 300): {
  areas: string;
  organizations: string;
  places: Buffer;
  streets: string[];
  communities: string[];
} {
  const perEdge = Math.max(2, Math.round(vertices / 4));
  const districtCode = `${DISTRICT}000000`;
  const features: unknown[] = [
    {
      type: 'Feature',
      properties: { code: districtCode, name: '望川区', level: 'district' },
      geometry: { type: 'Polygon', coordinates: [cell(X0, Y0, W, H, perEdge * 4)] },
    },
  ];
  const streets: string[] = [];
  const sCols = 6;
  const sRows = 4;
  for (let r = 0; r < sRows; r++)
    for (let c = 0; c < sCols; c++) {
      const code = `${DISTRICT}${String(streets.length + 1).padStart(3, '0')}000`;
      streets.push(code);
      features.push({
        type: 'Feature',
        properties: { code, name: `街道${streets.length}`, level: 'street', parent: districtCode },
        geometry: { type: 'Polygon', coordinates: [cell(X0 + (c * W) / sCols, Y0 + (r * H) / sRows, W / sCols, H / sRows, perEdge)] },
      });
    }
  const communities: string[] = [];
  const perStreet = new Map<string, number>();
  const n = 15;
  for (let r = 0; r < n; r++)
    for (let c = 0; c < n; c++) {
      const cx = X0 + ((c + 0.5) * W) / n;
      const cy = Y0 + ((r + 0.5) * H) / n;
      const street = streets[Math.floor(((cy - Y0) / H) * sRows) * sCols + Math.floor(((cx - X0) / W) * sCols)]!;
      const k = (perStreet.get(street) ?? 0) + 1;
      perStreet.set(street, k);
      const code = `${street.slice(0, 9)}${String(k).padStart(3, '0')}`;
      communities.push(code);
      features.push({
        type: 'Feature',
        properties: { code, name: `社区${communities.length}`, level: 'community', parent: street },
        geometry: { type: 'Polygon', coordinates: [cell(X0 + (c * W) / n, Y0 + (r * H) / n, W / n, H / n, perEdge)] },
      });
    }
  const areas = JSON.stringify({ type: 'FeatureCollection', features });

  const orgs = ['code,name,type,level,area,parent,longitude,latitude,address'];
  const add = (code: string, name: string, type: string, level: string, area: string, parent = '') =>
    orgs.push(
      [
        code,
        name,
        type,
        level,
        area,
        parent,
        (X0 + Math.random() * W).toFixed(6),
        (Y0 + Math.random() * H).toFixed(6),
        `${name}地址1号`,
      ].join(','),
    );
  add('H001', '望川区人民医院', 'hospital', '3', communities[0]!);
  add('H002', '望川区中医院', 'hospital', '2', communities[1]!);
  add('H003', '望川区第二医院', 'hospital', '1', communities[2]!);
  add('CDC01', '望川区疾病预防控制中心', 'cdc', '', communities[3]!);
  add('MCH01', '望川区妇幼保健院', 'mch', '', communities[4]!);
  add('SUP01', '望川区卫生监督所', 'health-supervision', '', communities[5]!);
  streets.forEach((s, i) =>
    add(`C${String(i + 1).padStart(3, '0')}`, `街道${i + 1}卫生服务中心`, i % 2 ? 'township-hc' : 'chc', '', `${s.slice(0, 9)}001`),
  );
  for (let i = 0; orgs.length - 1 < 300; i++) {
    const community = communities[i % communities.length]!;
    const s = streets.indexOf(`${community.slice(0, 9)}000`);
    add(
      `V${String(i + 1).padStart(4, '0')}`,
      `社区${i + 1}卫生室`,
      i % 2 ? 'village-clinic' : 'health-station',
      '',
      community,
      `C${String(s + 1).padStart(3, '0')}`,
    );
  }

  const sentinel = [
    '交通场站',
    '学校',
    '社区',
    '供水单位',
    '机关企事业单位',
    '生活服务类场所',
    '特殊人群集中场所',
    '动物养殖屠宰场所',
    '密闭式娱乐休闲场所',
  ];
  const places = ['代码,名称,类别,哨点类型,所属区划,年级,班级数,经度,纬度'];
  for (let i = 0; i < 1000; i++) {
    const community = communities[(i * 7) % communities.length]!;
    const pos = [(X0 + Math.random() * W).toFixed(6), (Y0 + Math.random() * H).toFixed(6)];
    const code = `P${String(i + 1).padStart(4, '0')}`;
    if (i < 100)
      places.push(
        [code, `第${i + 1}小学`, '学校', '', community, '一年级;二年级;三年级;四年级;五年级;六年级', '4;4;4;3;3;3', ...pos].join(','),
      );
    else if (i < 180) places.push([code, `第${i + 1}幼儿园`, '幼儿园', '', community, '小班;中班;大班', '2', ...pos].join(','));
    else if (i < 480) places.push([code, `第${i + 1}大药房`, '零售药店', '', community, '', '', ...pos].join(','));
    else if (i < 600) places.push([code, `第${i + 1}养老院`, '养老机构', '', community, '', '', ...pos].join(','));
    else places.push([code, `哨点${i + 1}`, '监测哨点', sentinel[i % 9]!, community, '', '', ...pos].join(','));
  }
  return {
    areas,
    organizations: orgs.join('\n') + '\n',
    places: iconv.encode(places.join('\r\n') + '\r\n', 'gb18030'),
    streets,
    communities,
  };
}

export async function runRegistryBench(argv: string[] = process.argv.slice(2)): Promise<void> {
  const vertices = Number(arg(argv, 'vertices', '300'));
  const files = districtFiles(vertices);
  await prepareTemplates();
  const rows: Record<string, string | number>[] = [];
  for (const kind of storeKinds()) {
    const server = await startTestServer(kind);
    try {
      const post = async (body: string | Buffer, type: string, k: string) => {
        const res = await server.api(`/api/registry/import?kind=${k}`, {
          method: 'POST',
          body: body as BodyInit,
          headers: { 'content-type': type },
        });
        const r = (await res.json()) as {
          stored: boolean;
          created: number;
          refused: { where: string; reason: string }[];
          boundaryBytes?: number;
        };
        if (!r.stored) throw new Error(`${k}: refused: ${JSON.stringify(r.refused.slice(0, 3))}`);
        return r;
      };
      const t0 = performance.now();
      const a = await post(files.areas, 'application/geo+json', 'areas');
      const t1 = performance.now();
      const o = await post(files.organizations, 'text/csv', 'organizations');
      const t2 = performance.now();
      const p = await post(files.places, 'text/csv', 'places');
      const t3 = performance.now();
      const seconds = (t3 - t0) / 1000;
      const payload = async (level: string) =>
        Buffer.byteLength(await (await server.api(`/api/surveillance/geography?level=${level}`)).text());
      const streetBytes = await payload('street');
      const communityBytes = await payload('community');
      const districtBytes = await payload('district');
      const total = streetBytes + communityBytes + districtBytes;
      rows.push({
        store: kind,
        'records (areas/orgs/places)': `${a.created}/${o.created}/${p.created}`,
        'input MB': ((files.areas.length + files.organizations.length + files.places.length) / 1048576).toFixed(1),
        'areas s': ((t1 - t0) / 1000).toFixed(1),
        'orgs s': ((t2 - t1) / 1000).toFixed(1),
        'places s': ((t3 - t2) / 1000).toFixed(1),
        'total s (target < 30)': `${seconds.toFixed(1)} ${seconds < 30 ? 'met' : 'NOT met'}`,
        'map KB street/community': `${(streetBytes / 1024).toFixed(0)}/${(communityBytes / 1024).toFixed(0)}`,
        'map KB all 250 (target < 500)': `${(total / 1024).toFixed(0)} ${total < 500 * 1024 ? 'met' : 'NOT met'}`,
      });
    } finally {
      await server.dispose();
    }
  }
  printTable(`Onboarding a district from files: 250 areas (~${vertices} vertices each), 300 organizations, 1,000 places`, rows);
}

if (import.meta.url === `file://${process.argv[1]}`) await runRegistryBench();
