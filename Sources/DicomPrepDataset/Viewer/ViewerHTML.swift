/// The viewer's page: HTML, style and script (no build step; three.js r111 and its OrbitControls beside it).
enum ViewerHTML {
    static func page(scripts: [String], title: String) -> String {
        let tags = scripts.map { "<script src=\"\($0)\"></script>" }.joined(separator: "\n")
        return """
        <!doctype html>
        <html><head><meta charset="utf-8"><title>\(title.replacingOccurrences(of: "<", with: "&lt;"))</title>
        <style>
        body{margin:0;font-family:sans-serif;background:#111;color:#ddd}
        #bar{padding:6px 10px;display:flex;gap:14px;align-items:center;flex-wrap:wrap;background:#222}
        #grid{display:grid;grid-template-columns:repeat(2,minmax(300px,1fr));gap:4px;padding:4px}
        .view{position:relative;background:#000;height:44vh}
        .view canvas{width:100%;height:100%;display:block}
        .label{position:absolute;left:6px;top:4px;font-size:12px;color:#9cf;pointer-events:none}
        #info{font-size:12px;color:#aaa}
        #report{display:none}
        </style>
        <script>
        const DP = { items: [], add(x) { this.items.push(x); } };
        </script>
        <script src="three.min.js"></script>
        <script src="OrbitControls.js"></script>
        \(tags)
        </head><body data-state="loading">
        <div id="bar">
          <b>dicomprep view</b>
          <label>volume <select id="volume"></select></label>
          <label>window <input id="wlo" type="range" min="0" max="1000" value="0"> <input id="whi" type="range" min="0" max="1000" value="1000"></label>
          <label><input id="showLabels" type="checkbox" checked> masks</label>
          <label>opacity <input id="alpha" type="range" min="0" max="100" value="45"></label>
          <span id="info"></span>
        </div>
        <div id="grid">
          <div class="view"><canvas id="axial"></canvas><div class="label">axial (R right, A up)</div></div>
          <div class="view"><canvas id="coronal"></canvas><div class="label">coronal (R right, S up)</div></div>
          <div class="view"><canvas id="sagittal"></canvas><div class="label">sagittal (A left, S up)</div></div>
          <div class="view" id="three"><div class="label">3D (drag to rotate, wheel to zoom)</div></div>
        </div>
        <pre id="report"></pre>
        <script>
        \(script)
        </script>
        </body></html>

        """
    }

    static let script = #"""
    'use strict';
    function decode(b64, Type) {
      const s = atob(b64), u = new Uint8Array(s.length);
      for (let i = 0; i < s.length; i++) u[i] = s.charCodeAt(i);
      return new Type(u.buffer);
    }
    const images = DP.items.filter(x => x.kind === 'image');
    const labels = DP.items.filter(x => x.kind === 'label');
    const meshes = DP.items.filter(x => x.kind === 'mesh');
    for (const v of images) v.values = decode(v.data, Int16Array);
    for (const v of labels) v.values = decode(v.data, Uint8Array);
    const palette = [[0,0,0],[230,50,50],[50,200,80],[60,120,255],[240,200,40],[200,80,220],[40,210,210],[250,140,30]];
    const meshColors = [0xe8c9a0, 0xe04040, 0x40c060, 0x4080ff, 0xf0c030];
    const state = { img: 0, cursor: [0, 0, 0], lo: 0, hi: 1, showLabels: true, alpha: 0.45 };
    const sel = document.getElementById('volume');
    images.forEach((v, i) => { const o = document.createElement('option'); o.value = i; o.textContent = v.name + ' (' + v.dims.join('×') + ')'; sel.appendChild(o); });
    function spacing(v) { const a = v.affine; return [0, 1, 2].map(c => Math.hypot(a[c], a[4 + c], a[8 + c])); }
    function current() { return images[state.img]; }
    function selectImage(i) {
      state.img = i;
      const v = current(); if (!v) return;
      state.cursor = v.dims.map(d => Math.floor(d / 2));
      state.lo = v.window[0]; state.hi = v.window[1];
      const f = x => Math.round((x - v.min) / Math.max(v.max - v.min, 1e-9) * 1000);
      document.getElementById('wlo').value = f(state.lo); document.getElementById('whi').value = f(state.hi);
      drawAll(); build3D();
    }
    // Views: [horizontal voxel axis and direction, vertical axis and direction, fixed axis].
    const views = {
      axial:    { h: 0, hflip: false, v: 1, fixed: 2 },
      coronal:  { h: 0, hflip: false, v: 2, fixed: 1 },
      sagittal: { h: 1, hflip: true,  v: 2, fixed: 0 },
    };
    const planeCanvas = {};
    function planeImage(name) {
      const v = current(), P = views[name], d = v.dims;
      const w = d[P.h], h = d[P.v];
      let c = planeCanvas[name];
      if (!c) { c = planeCanvas[name] = document.createElement('canvas'); }
      c.width = w; c.height = h;
      const ctx = c.getContext('2d'), img = ctx.createImageData(w, h);
      const lab = state.showLabels ? labels.filter(l => l.owner === state.img) : [];
      const range = Math.max(state.hi - state.lo, 1e-9), a = state.alpha;
      const idx = [0, 0, 0];
      idx[P.fixed] = state.cursor[P.fixed];
      for (let y = 0; y < h; y++) {
        idx[P.v] = h - 1 - y;
        for (let x = 0; x < w; x++) {
          idx[P.h] = P.hflip ? w - 1 - x : x;
          const n = idx[0] + d[0] * (idx[1] + d[1] * idx[2]);
          const val = v.values[n] * v.scale + v.offset;
          let g = Math.max(0, Math.min(255, (val - state.lo) / range * 255));
          let r = g, gg = g, b = g;
          for (const l of lab) {
            const k = l.values[n];
            if (k > 0) { const p = palette[k % palette.length]; r = r * (1 - a) + p[0] * a; gg = gg * (1 - a) + p[1] * a; b = b * (1 - a) + p[2] * a; }
          }
          const o = 4 * (y * w + x);
          img.data[o] = r; img.data[o + 1] = gg; img.data[o + 2] = b; img.data[o + 3] = 255;
        }
      }
      ctx.putImageData(img, 0, 0);
      return c;
    }
    const layout = {};
    function draw(name) {
      const v = current(), P = views[name], canvas = document.getElementById(name);
      const W = canvas.clientWidth || 400, H = canvas.clientHeight || 300;
      canvas.width = W; canvas.height = H;
      const ctx = canvas.getContext('2d');
      ctx.fillStyle = '#000'; ctx.fillRect(0, 0, W, H);
      if (!v) return;
      const src = planeImage(name), sp = spacing(v);
      const pw = src.width * sp[P.h], ph = src.height * sp[P.v];
      const s = Math.min(W / pw, H / ph) * 0.96;
      const dw = pw * s, dh = ph * s, x0 = (W - dw) / 2, y0 = (H - dh) / 2;
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(src, x0, y0, dw, dh);
      layout[name] = { x0, y0, dw, dh, w: src.width, h: src.height };
      // Crosshair.
      const cx = P.hflip ? src.width - 1 - state.cursor[P.h] : state.cursor[P.h];
      const cy = src.height - 1 - state.cursor[P.v];
      ctx.strokeStyle = 'rgba(80,200,255,0.8)'; ctx.lineWidth = 1;
      const px = x0 + (cx + 0.5) / src.width * dw, py = y0 + (cy + 0.5) / src.height * dh;
      ctx.beginPath(); ctx.moveTo(px, y0); ctx.lineTo(px, y0 + dh); ctx.moveTo(x0, py); ctx.lineTo(x0 + dw, py); ctx.stroke();
      ctx.fillStyle = '#9cf'; ctx.font = '12px sans-serif';
      ctx.fillText('slice ' + (state.cursor[P.fixed] + 1) + '/' + v.dims[P.fixed], 6, H - 8);
    }
    function world(v, i, j, k) { const a = v.affine; return [0, 1, 2].map(r => a[4 * r] * i + a[4 * r + 1] * j + a[4 * r + 2] * k + a[4 * r + 3]); }
    function drawAll() {
      for (const n of Object.keys(views)) draw(n);
      const v = current();
      if (v) {
        const c = state.cursor, n = c[0] + v.dims[0] * (c[1] + v.dims[1] * c[2]), w = world(v, c[0], c[1], c[2]);
        const labs = labels.filter(l => l.owner === state.img).map(l => l.name + '=' + l.values[n]).join(' ');
        document.getElementById('info').textContent = 'voxel ' + c.join(',') + '  RAS ' + w.map(x => x.toFixed(1)).join(', ') + ' mm  value ' + (v.values[n] * v.scale + v.offset).toFixed(1) + (labs ? '  ' + labs : '');
      }
      updatePlanes3D();
    }
    for (const name of Object.keys(views)) {
      const canvas = document.getElementById(name);
      canvas.addEventListener('mousedown', e => {
        const L = layout[name], P = views[name]; if (!L) return;
        const r = canvas.getBoundingClientRect();
        const x = Math.floor((e.clientX - r.left - L.x0) / L.dw * L.w), y = Math.floor((e.clientY - r.top - L.y0) / L.dh * L.h);
        if (x < 0 || y < 0 || x >= L.w || y >= L.h) return;
        state.cursor[P.h] = P.hflip ? L.w - 1 - x : x;
        state.cursor[P.v] = L.h - 1 - y;
        drawAll();
      });
      canvas.addEventListener('wheel', e => {
        e.preventDefault();
        const P = views[name], v = current(); if (!v) return;
        state.cursor[P.fixed] = Math.max(0, Math.min(v.dims[P.fixed] - 1, state.cursor[P.fixed] + (e.deltaY > 0 ? -1 : 1)));
        drawAll();
      }, { passive: false });
    }
    sel.addEventListener('change', () => selectImage(+sel.value));
    for (const id of ['wlo', 'whi']) document.getElementById(id).addEventListener('input', () => {
      const v = current(); if (!v) return;
      const t = x => v.min + (+x) / 1000 * (v.max - v.min);
      state.lo = t(document.getElementById('wlo').value); state.hi = t(document.getElementById('whi').value);
      if (state.hi <= state.lo) state.hi = state.lo + 1e-6;
      drawAll();
    });
    document.getElementById('showLabels').addEventListener('change', e => { state.showLabels = e.target.checked; drawAll(); });
    document.getElementById('alpha').addEventListener('input', e => { state.alpha = e.target.value / 100; drawAll(); });
    window.addEventListener('resize', () => { drawAll(); resize3D(); });

    // 3D: surfaces as meshes, the three current planes as textured quads, in world RAS mm.
    let renderer = null, scene, camera, controls, planes = {}, webgl = 'none';
    const holder = document.getElementById('three');
    try {
      renderer = new THREE.WebGLRenderer({ antialias: true, preserveDrawingBuffer: true });
      const gl = renderer.getContext();
      webgl = (gl instanceof WebGL2RenderingContext ? 'WebGL 2' : 'WebGL 1') + ' ' + (gl.getParameter(gl.VERSION) || '');
      renderer.setClearColor(0x000000);
      holder.appendChild(renderer.domElement);
      scene = new THREE.Scene();
      camera = new THREE.PerspectiveCamera(40, 1, 1, 10000);
      camera.up.set(0, 0, 1);
      scene.add(new THREE.AmbientLight(0x777777));
      const light = new THREE.DirectionalLight(0xffffff, 0.8); light.position.set(1, -1, 2); camera.add(light); scene.add(camera);
      controls = new THREE.OrbitControls(camera, renderer.domElement);
      meshes.forEach((m, i) => {
        const g = new THREE.BufferGeometry();
        g.setAttribute('position', new THREE.BufferAttribute(decode(m.positions, Float32Array), 3));
        g.setIndex(new THREE.BufferAttribute(decode(m.indices, Uint32Array), 1));
        g.computeVertexNormals();
        const mat = new THREE.MeshPhongMaterial({ color: meshColors[i % meshColors.length], shininess: 30, side: THREE.DoubleSide });
        const obj = new THREE.Mesh(g, mat); obj.name = m.name; scene.add(obj);
      });
    } catch (e) { renderer = null; webgl = 'unavailable: ' + e; }
    function resize3D() {
      if (!renderer) return;
      const W = holder.clientWidth || 400, H = holder.clientHeight || 300;
      renderer.setSize(W, H); camera.aspect = W / H; camera.updateProjectionMatrix();
    }
    function build3D() {
      if (!renderer) return;
      for (const k of Object.keys(planes)) { scene.remove(planes[k]); }
      planes = {};
      const box = new THREE.Box3();
      scene.traverse(o => { if (o.isMesh) box.expandByObject(o); });
      const v = current();
      if (v) {
        const d = v.dims;
        for (const c of [[-0.5, -0.5, -0.5], [d[0] - 0.5, d[1] - 0.5, d[2] - 0.5]]) box.expandByPoint(new THREE.Vector3(...world(v, ...c)));
        for (const name of Object.keys(views)) {
          const tex = new THREE.CanvasTexture(planeImage(name));
          tex.magFilter = THREE.NearestFilter; tex.minFilter = THREE.LinearFilter;
          const mat = new THREE.MeshBasicMaterial({ map: tex, side: THREE.DoubleSide, transparent: true, opacity: 0.85 });
          const quad = new THREE.Mesh(new THREE.BufferGeometry(), mat);
          quad.userData.name = name; planes[name] = quad; scene.add(quad);
        }
      }
      const centre = box.getCenter(new THREE.Vector3()), size = box.getSize(new THREE.Vector3()).length() || 100;
      controls.target.copy(centre);
      camera.position.set(centre.x + size * 0.9, centre.y - size * 1.1, centre.z + size * 0.6);
      camera.near = size / 100; camera.far = size * 10; camera.updateProjectionMatrix();
      resize3D(); updatePlanes3D();
    }
    function updatePlanes3D() {
      if (!renderer) return;
      const v = current(); if (!v) return;
      const d = v.dims;
      for (const name of Object.keys(planes)) {
        const P = views[name], q = planes[name], f = state.cursor[P.fixed];
        // Corners in voxel indices: (h, v) from (-0.5, -0.5) to (n - 0.5, m - 0.5) on the fixed slice.
        const corner = (hu, vv) => { const i = [0, 0, 0]; i[P.fixed] = f; i[P.h] = hu; i[P.v] = vv; return world(v, i[0], i[1], i[2]); };
        const h0 = P.hflip ? d[P.h] - 0.5 : -0.5, h1 = P.hflip ? -0.5 : d[P.h] - 0.5;
        const pos = [...corner(h0, -0.5), ...corner(h1, -0.5), ...corner(h1, d[P.v] - 0.5), ...corner(h0, d[P.v] - 0.5)];
        const g = new THREE.BufferGeometry();
        g.setAttribute('position', new THREE.Float32BufferAttribute(pos, 3));
        g.setAttribute('uv', new THREE.Float32BufferAttribute([0, 0, 1, 0, 1, 1, 0, 1], 2));
        g.setIndex([0, 1, 2, 0, 2, 3]);
        q.geometry.dispose(); q.geometry = g;
        q.material.map.image = planeImage(name); q.material.map.needsUpdate = true;
      }
    }
    function animate() { if (!renderer) return; requestAnimationFrame(animate); controls.update(); renderer.render(scene, camera); }
    function nonBlank2D(name) {
      const c = document.getElementById(name), ctx = c.getContext('2d');
      const px = ctx.getImageData(0, 0, c.width, c.height).data; let n = 0;
      for (let i = 0; i < px.length; i += 4) if (px[i] + px[i + 1] + px[i + 2] > 30) n++;
      return n;
    }
    function nonBlank3D() {
      if (!renderer) return 0;
      renderer.render(scene, camera);
      const gl = renderer.getContext(), W = gl.drawingBufferWidth, H = gl.drawingBufferHeight, px = new Uint8Array(W * H * 4);
      gl.readPixels(0, 0, W, H, gl.RGBA, gl.UNSIGNED_BYTE, px); let n = 0;
      for (let i = 0; i < px.length; i += 4) if (px[i] + px[i + 1] + px[i + 2] > 30) n++;
      return n;
    }
    function report() {
      const r = {
        volumes: images.map(v => ({ name: v.name, dims: v.dims })),
        overlays: labels.map(l => ({ name: l.name, dims: l.dims, owner: l.owner, voxels: l.values.reduce((a, b) => a + (b > 0 ? 1 : 0), 0) })),
        meshes: meshes.map(m => ({ name: m.name, vertices: m.vertices, triangles: m.triangles })),
        webgl: webgl,
        nonblank: { axial: images.length ? nonBlank2D('axial') : 0, coronal: images.length ? nonBlank2D('coronal') : 0, sagittal: images.length ? nonBlank2D('sagittal') : 0, three: nonBlank3D() },
      };
      document.getElementById('report').textContent = JSON.stringify(r);
      document.body.dataset.state = 'ready';
    }
    selectImage(0);
    if (!images.length) build3D();
    animate();
    setTimeout(report, 300);
    """#
}
