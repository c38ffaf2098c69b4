// Provisions (or looks up) a project and prints its connection details, password masked.
// Usage: consumer PROJECT OWNER   (admin connection from DB_ADMIN_URL / PG* variables)
#include <cstdlib>
#include <iostream>

#include <claudable/client.hpp>

int main(int argc, char** argv) {
    if (argc != 3) {
        std::cerr << "usage: consumer PROJECT OWNER\n";
        return 2;
    }
    const char* admin = std::getenv("DB_ADMIN_URL");
    try {
        claudable::Client client(admin ? admin : "");
        claudable::ProvisionedProject project = client.provision(argv[1], argv[2]);
        std::cout << project.database_name << " " << project.database_url << "\n";  // streams the masked URL
    } catch (const claudable::Error& error) {
        std::cerr << error.what() << " (SQLSTATE " << error.sqlstate() << ")\n";
        return claudable::exit_code_for(error);
    }
    return 0;
}
