// Reference ext_proc server on the official Go stack (grpc-go + go-control-plane types) for
// bench:core. It does what bench/src/processor-server.ts's header processor does on /headers:
// on request headers, set x-bench-path to :path (overwrite) and remove x-drop-me, answer
// CONTINUE, then return from the handler so the stream ends with status OK (processor-core's
// closeAfterLastPhase). Envoy's filter config asks for request headers only.
//
// Usage: go-ext-proc PORT  (listens on 127.0.0.1:PORT; prints "ready" on stdout once listening)
package main

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"syscall"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

type server struct {
	extprocv3.UnimplementedExternalProcessorServer
}

// headerValue reads one header: raw_value (Envoy >= 1.34) wins over value, as in processor-core.
func headerValue(h *corev3.HeaderValue) string {
	if len(h.GetRawValue()) > 0 {
		return string(h.GetRawValue())
	}
	return h.GetValue()
}

func (server) Process(stream extprocv3.ExternalProcessor_ProcessServer) error {
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		rh, ok := req.Request.(*extprocv3.ProcessingRequest_RequestHeaders)
		if !ok {
			// Not expected with this mode; answer nothing and keep reading (Envoy times out).
			continue
		}
		path := ""
		for _, h := range rh.RequestHeaders.GetHeaders().GetHeaders() {
			if h.GetKey() == ":path" {
				path = headerValue(h)
				break
			}
		}
		resp := &extprocv3.ProcessingResponse{
			Response: &extprocv3.ProcessingResponse_RequestHeaders{
				RequestHeaders: &extprocv3.HeadersResponse{
					Response: &extprocv3.CommonResponse{
						Status: extprocv3.CommonResponse_CONTINUE,
						HeaderMutation: &extprocv3.HeaderMutation{
							SetHeaders: []*corev3.HeaderValueOption{{
								Header:       &corev3.HeaderValue{Key: "x-bench-path", RawValue: []byte(path)},
								Append:       wrapperspb.Bool(false),
								AppendAction: corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD,
							}},
							RemoveHeaders: []string{"x-drop-me"},
						},
					},
				},
			},
		}
		if err := stream.Send(resp); err != nil {
			return err
		}
		// Request headers were the only phase asked for: end the stream with OK.
		return nil
	}
}

func main() {
	if len(os.Args) != 2 {
		log.Fatalf("usage: %s PORT", os.Args[0])
	}
	lis, err := net.Listen("tcp", "127.0.0.1:"+os.Args[1])
	if err != nil {
		log.Fatal(err)
	}
	s := grpc.NewServer()
	extprocv3.RegisterExternalProcessorServer(s, server{})
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sigs
		s.Stop()
	}()
	fmt.Println("ready")
	if err := s.Serve(lis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		log.Fatal(err)
	}
}
