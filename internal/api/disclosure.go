package api

import "github.com/danielgtaylor/huma/v2"

func (s *server) registerFinance(a huma.API) {}
