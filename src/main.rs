fn main() -> std::process::ExitCode {
    wangju::cli::main()
}
