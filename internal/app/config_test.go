package app_test

import (
	"strings"
	"testing"
	"time"

	"github.com/shequ-platform/shequ/internal/app"
	"github.com/shequ-platform/shequ/internal/grid"
)

func TestValidateMapTiles(t *testing.T) {
	valid := func(tiles string) app.Config {
		return app.Config{LogFormat: "text", IdleTimeout: 30 * time.Minute, LockoutFailures: 5, MaxBody: 1 << 20,
			Map: grid.MapConfig{TileURL: tiles}}
	}
	for _, tiles := range []string{
		"",
		"https://tiles.example.gov.cn/{z}/{x}/{y}.png",
		"http://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&LAYER=vec&TILEMATRIXSET=w&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=KEY",
		"https://{s}.tiles.example.cn:8443/{z}/{x}/{-y}.png",
		"https://shequ.example.gov.cn/tiles/{z}/{x}/{y}{r}.png",
	} {
		c := valid(tiles)
		if err := c.Validate(); err != nil {
			t.Errorf("%q refused: %v", tiles, err)
		}
		if c.Map.TileCRS != "wgs84" {
			t.Errorf("%q: crs %q", tiles, c.Map.TileCRS)
		}
	}
	for _, tiles := range []string{
		"ftp://t{s}.tianditu.gov.cn/{z}/{x}/{y}.png",
		"t{s}.tianditu.gov.cn/{z}/{x}/{y}.png",
		"https://tiles.example.gov.cn/{x}/{y}.png", // no {z}
		"https://tiles.example.gov.cn/{z}/{x}.png", // no {y}
		"https:///{z}/{x}/{y}.png",                 // no host
		"http://tiles{s}/{z}/{x}/{y}.png",          // no domain after {s}: the CSP could not name it
		"http://t{s}.exa mple.cn/{z}/{x}/{y}.png",  // not a URL
		"javascript:alert(1)//{z}/{x}/{y}",
	} {
		c := valid(tiles)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "--map-tiles") {
			t.Errorf("%q accepted: %v", tiles, err)
		}
	}
}
