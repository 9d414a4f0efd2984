// The example's web server: answers every request with its platform, on $PORT (default 8080).
package main

import (
	"fmt"
	"log"
	"net/http"
	"os"

	"example.com/goweb/internal/greet"
)

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, greet.Hello())
	})
	log.Printf("listening on :%s", port)
	log.Fatal(http.ListenAndServe(":"+port, nil))
}
