//! A blocking, minimal RESP client: enough to ask a test server `PING`, `CLUSTER INFO` or
//! `INFO` without a runtime.

use std::io::{self, BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Sends one command to 127.0.0.1:`port` and returns the reply as text (`-ERR …` for errors,
/// array items joined by newlines).
pub(crate) fn command(port: u16, args: &[&str]) -> io::Result<String> {
    let stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    stream.set_write_timeout(Some(Duration::from_secs(2)))?;
    let mut frame = format!("*{}\r\n", args.len());
    for arg in args {
        frame.push_str(&format!("${}\r\n{arg}\r\n", arg.len()));
    }
    (&stream).write_all(frame.as_bytes())?;
    read_reply(&mut BufReader::new(stream))
}

fn read_reply(reader: &mut impl BufRead) -> io::Result<String> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "closed"));
    }
    let line = line.trim_end_matches(['\r', '\n']);
    let (kind, rest) = line.split_at(1.min(line.len()));
    let number = || {
        rest.parse::<i64>()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    };
    match kind {
        "+" | "-" | ":" => Ok(if kind == "-" {
            line.to_string()
        } else {
            rest.to_string()
        }),
        "$" => {
            let len = number()?;
            if len < 0 {
                return Ok(String::new());
            }
            let mut body = vec![0; len as usize + 2];
            reader.read_exact(&mut body)?;
            body.truncate(len as usize);
            Ok(String::from_utf8_lossy(&body).into_owned())
        }
        "*" => {
            let items = (0..number()?.max(0))
                .map(|_| read_reply(reader))
                .collect::<io::Result<Vec<_>>>()?;
            Ok(items.join("\n"))
        }
        _ => Err(io::Error::new(io::ErrorKind::InvalidData, line.to_string())),
    }
}
