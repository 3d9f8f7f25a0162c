# SSE_CLIENT_SANITIZE: empty, "address,undefined" or "thread". Applied to every target built here.
if(SSE_CLIENT_SANITIZE)
  add_compile_options(-fsanitize=${SSE_CLIENT_SANITIZE} -fno-omit-frame-pointer
                      -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${SSE_CLIENT_SANITIZE})
endif()
